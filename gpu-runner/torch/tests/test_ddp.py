"""Two-rank DDP pre-training against one rank, on the synthetic corpus."""

import os
import shutil
import unittest

from tests import corpus, ranks


class DdpTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir, cls.tokens = corpus.token_set("anneal-torch-")
        cls.addClassCleanup(shutil.rmtree, cls.dir, ignore_errors=True)
        cls.one = ranks.run(ranks.spec(), cls.tokens, os.path.join(cls.dir, "one"), ranks=1, threads=2)
        cls.two = ranks.run(ranks.spec(), cls.tokens, os.path.join(cls.dir, "two"), ranks=2, threads=1)

    def test_both_runs_succeed(self):
        for codes, _, errs in (self.one, self.two):
            self.assertEqual([0] * len(codes), codes, errs)

    def test_the_loss_falls(self):
        steps = [m for m in self.two[1] if "step" in m]
        self.assertEqual(list(range(80)), [m["step"] for m in steps])
        first = sum(m["loss"] for m in steps[:5]) / 5
        last = sum(m["loss"] for m in steps[-5:]) / 5
        # uniform over 300 tokens is ln 300 = 5.70; the chain's next token is 90% determined
        self.assertGreater(first, 5.0)
        self.assertLess(last, 0.6 * first, [round(m["loss"], 3) for m in steps])

    def test_two_ranks_follow_the_one_rank_curve(self):
        one = [m["loss"] for m in self.one[1] if "step" in m]
        two = [m["loss"] for m in self.two[1] if "step" in m]
        self.assertEqual(len(one), len(two))
        worst = max(abs(a - b) / abs(a) for a, b in zip(one, two))
        # the same global batch, gradients averaged across ranks: only the summation order differs
        self.assertLess(worst, 1e-4, worst)

    def test_the_ranks_hold_identical_weights(self):
        summary = [m["summary"] for m in self.two[1] if "summary" in m]
        self.assertEqual(1, len(summary))
        self.assertEqual(2, summary[0]["ranks"])
        self.assertEqual(64, len(summary[0]["weights_sha256"]))

    def test_checkpoints_are_committed_with_their_files(self):
        root = os.path.join(self.dir, "two", "checkpoints")
        self.assertEqual(["step-00000040", "step-00000080"], sorted(os.listdir(root)))
        for c in os.listdir(root):
            files = set(os.listdir(os.path.join(root, c)))
            self.assertTrue({"model.safetensors", "optimizer.safetensors", "trainer-state.json", "COMMITTED"} <= files, files)


if __name__ == "__main__":
    unittest.main()
