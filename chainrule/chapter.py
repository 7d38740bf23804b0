"""The chapter's experiment, as numbers: the one place they are written.

Year 1900 of the Potsdam station, TMAX, 100 training days drawn with `np.random.seed(2);
np.random.permutation(365)`, three tanh basis functions from W0, ridge = ridge_basis = 0.1,
learning rate 1e-5, 1,000,000 gradient-descent steps; the chapter reports the two MSEs below.
"""

import numpy as np

STATION = "GM000003342"
YEAR = 1900
ELEMENT = "TMAX"
N_TRAIN = 100
SEED = 2
W0 = np.array([[0.1, 0.2, 0.3], [-10.0, -50.0, -100.0]])
W0.flags.writeable = False  # a shared constant: the model copies it
RIDGE = 0.1
RIDGE_BASIS = 0.1
LEARNING_RATE = 1e-5
ITERATIONS = 1_000_000
TRAIN_MSE, TEST_MSE = 20.0247, 20.5147  # as the chapter prints them (4 decimals)
