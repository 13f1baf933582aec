pub struct CartPoleVectorEnv;
