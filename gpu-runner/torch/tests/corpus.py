"""A learnable synthetic token corpus for the engine's tests: documents from a seeded order-1
Markov chain whose next token is nearly determined by the current one."""

import os
import tempfile

import numpy as np

from anneal_torch import data


def documents(n=200, length=60, vocab=300, seed=7):
    g = np.random.default_rng(seed)
    table = g.integers(1, vocab, size=vocab)
    docs = []
    for _ in range(n):
        t = int(g.integers(1, vocab))
        doc = [t]
        for _ in range(length - 1):
            t = int(table[t]) if g.random() < 0.9 else int(g.integers(1, vocab))
            doc.append(t)
        docs.append(doc)
    return docs


def write(directory, vocab=300):
    return data.write_tokens(directory, documents(vocab=vocab), vocab_size=vocab, eos=0)


def token_set(prefix):
    """A fresh directory holding the corpus as a token set: (directory, token set path)."""
    directory = tempfile.mkdtemp(prefix=prefix)
    tokens = os.path.join(directory, "tokens")
    write(tokens)
    return directory, tokens
