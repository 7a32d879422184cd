"""The compute engine: every forward pass over many images (`forward.batched`, and its
gradient-enabled twin `forward.batched_gradients`), every optimisation step (`train_step`), and
where the memory layout is decided (`layout`)."""
