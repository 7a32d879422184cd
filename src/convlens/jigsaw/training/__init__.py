"""Training a de-shuffling network: settings and recipes, the loop, each epoch's data, the run
folder and its checkpoints, and the speed measured for the budget."""
