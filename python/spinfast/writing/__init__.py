"""Where outputs go (``user_config``) and how config.json is written
(``serialization``); the loggers themselves are :mod:`spinfast.logx`.
"""
