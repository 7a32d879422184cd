"""Scoring puzzles with a trained network: batched inference, test-time augmentation, the seam
score's combination, accuracy and restoration."""
