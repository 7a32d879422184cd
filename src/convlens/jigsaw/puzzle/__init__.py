"""The puzzle: tiles and their permutations (the exam's semantics), the exam's npz files,
validation splits and the training-free seam solver."""
