"""The chapter's code, verbatim: its explicit-Jacobian model, transcribed from the chapter notes.

Plain numpy in the chapter's operation order, no validation. Two uses: the test oracle
(tests/test_chainrule_explicit.py checks that ``chainrule.model`` reproduces it to rounding) and
the benchmark's ``chapter`` route (what the chapter's code costs). Never import it from library
code.
"""

import numpy as np


class TanhBasis:
    def __init__(self, W):
        self.W = W.copy()

    def Z(self, X):
        if len(X.shape) == 1:
            X = X[:, np.newaxis]
        return X @ self.W[:-1] + self.W[-1]

    def transform(self, X):
        return np.tanh(self.Z(X))

    def jacobian(self, X):
        if len(X.shape) == 1:
            X = X[:, np.newaxis]
        dZ_dW = np.hstack((X, np.ones((X.shape[0], 1))))  # (N, D+1)
        dPhi_dz = 1 - np.tanh(self.Z(X)) ** 2  # (N, K)
        return dZ_dW[:, :, np.newaxis] * dPhi_dz[:, np.newaxis, :]  # (N, D+1, K)


class BasisFunctionRidgeRegressionGD:
    def __init__(
        self, basis_function, learning_rate=0.01, num_iterations=1000, ridge=0.1, ridge_basis=0.1
    ):
        self.basis_function = basis_function
        self.learning_rate = learning_rate
        self.num_iterations = num_iterations
        self.ridge = ridge
        self.ridge_basis = ridge_basis
        self.w = None

    def pred(self, X):
        Phi = self.basis_function.transform(X)
        if self.w is None:
            self.w = np.zeros(Phi.shape[1])
        return Phi @ self.w

    def mse(self, X, y):
        residuals = y - self.pred(X)
        return np.mean(residuals * residuals)

    def d_loss_d_Phi(self, Phi, y):
        N = Phi.shape[0]
        if self.w is None:
            self.w = np.zeros(Phi.shape[1])
        residuals = y - Phi @ self.w
        return -residuals[:, np.newaxis] * self.w[np.newaxis, :] / N

    def loss(self, X, y):
        Phi = self.basis_function.transform(X)
        residuals = y - Phi @ self.w
        mse = np.mean(residuals * residuals)
        L = 0.5 * mse + 0.5 * self.ridge * np.sum(self.w**2)
        L += 0.5 * self.ridge_basis * np.sum(self.basis_function.W**2)
        return L

    def gradient_w(self, X, y):
        return (
            -(self.basis_function.transform(X).T @ (y - self.pred(X))) / len(y)
            + self.ridge * self.w
        )

    def gradient_basis_function(self, X, y):
        return -self.w[np.newaxis, :] * (y - self.pred(X))[:, np.newaxis] / len(y)

    def gradient_basis_function_W(self, X, y):
        grad_Phi = self.gradient_basis_function(X, y)  # (N, K)
        J = self.basis_function.jacobian(X)  # (N, D+1, K)
        gW = (grad_Phi[:, None, :] * J).sum(0)  # (D+1, K)
        gW += self.ridge_basis * self.basis_function.W
        return gW

    def fit(self, X, y):
        self.w = np.zeros(self.basis_function.transform(X).shape[1])
        for _ in range(self.num_iterations):
            gW = self.gradient_basis_function_W(X, y)
            grad_w = self.gradient_w(X, y)
            self.basis_function.W -= self.learning_rate * gW
            self.w -= self.learning_rate * grad_w
