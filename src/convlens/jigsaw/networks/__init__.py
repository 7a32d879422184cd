"""The de-shuffling networks: EdgeNet, VGG-BN with a seam head, the context-free network, and
the heads they share; `catalogue` describes each once (`catalogue.build_model` builds any)."""
