"""The de-shuffling networks: EdgeNet, VGG-BN with a seam head, the context-free network, and
the heads they share; `model.build_model` builds any of them."""
