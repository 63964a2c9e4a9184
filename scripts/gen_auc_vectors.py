#!/usr/bin/python3
"""Generates the AUC test vectors in tests/data/auc/ with scikit-learn's roc_auc_score.

Run once with Debian's python3-sklearn (apt-get install -y python3-sklearn):
    /usr/bin/python3 scripts/gen_auc_vectors.py
sklearn is not a runtime dependency; the C++ tests compare against the stored expected values.
"""
import json
import os

import numpy as np
from sklearn.metrics import roc_auc_score

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "data", "auc")


def cases(rng):
    # Heavy ties: scores rounded to a few distinct values.
    n = 200
    y = rng.integers(0, 2, n)
    yield "ties_coarse", y, np.round(rng.normal(size=n) + 0.8 * y, 0)
    # Mild ties among continuous scores.
    n = 1000
    y = (rng.random(n) < 0.3).astype(int)
    s = np.round(rng.normal(size=n) + 0.5 * y, 2)
    yield "ties_mild", y, s
    # All scores equal: AUC 0.5.
    yield "all_tied", np.array([0, 1, 1, 0, 1]), np.zeros(5)
    # Perfect and inverted separation with ties inside each class.
    yield "perfect", np.array([0, 0, 0, 1, 1]), np.array([0.1, 0.1, 0.2, 0.9, 0.9])
    yield "inverted", np.array([1, 1, 0, 0]), np.array([0.1, 0.2, 0.3, 0.3])
    # Unbalanced, large, ties across the class boundary.
    n = 5000
    y = (rng.random(n) < 0.05).astype(int)
    s = np.floor(rng.normal(size=n) * 4 + 3 * y) / 4
    yield "unbalanced_large", y, s


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(20240613)
    expected = {}
    for name, y, s in cases(rng):
        with open(os.path.join(OUT, name + ".tsv"), "w") as f:
            f.write("label\tscore\n")
            for label, score in zip(y, s):
                f.write("%d\t%s\n" % (label, repr(float(score))))
        expected[name] = float(roc_auc_score(y, s))
    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump(expected, f, indent=2, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
