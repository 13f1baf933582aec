"""A saved agent: finding its snapshot (``snapshots``), restoring or making its
env (``envs``), loading its policy (``load``, ``tf_model``) and compiling it to
run natively (``graph``, ``native``), the episode loop (``rollout``), and the
agent bundled with spinfast (``example``).
"""
