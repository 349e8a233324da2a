"""Checkpoints carry everything a run needs: a crashed run resumed from its last checkpoint
continues exactly as the uninterrupted one; SIGTERM commits a checkpoint; faults fire as asked."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import unittest

from tests import corpus, ranks


def losses(lines):
    return {m["step"]: m["loss"] for m in lines if "step" in m}


class ResumeTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir, cls.tokens = corpus.token_set("anneal-torch-resume-")
        cls.addClassCleanup(shutil.rmtree, cls.dir, ignore_errors=True)
        cls.whole = ranks.run(ranks.spec(steps=60, every=20), cls.tokens, os.path.join(cls.dir, "whole"))

    def test_a_resumed_run_continues_exactly_as_the_uninterrupted_one(self):
        crashed = ranks.run(
            ranks.spec(steps=60, every=20, inject={"crashAtStep": 30}), self.tokens, os.path.join(self.dir, "crash"))
        self.assertEqual([1], crashed[0])
        self.assertIn("FAULT INJECTION: crashing at step 30", crashed[2][0])
        ckpts = os.path.join(self.dir, "crash", "checkpoints")
        self.assertEqual(["step-00000020"], sorted(os.listdir(ckpts)))
        resumed = ranks.run(
            ranks.spec(steps=60, every=20, attempt=2, inject={"crashAtStep": 30}),
            self.tokens, os.path.join(self.dir, "resumed"),
            extra_env={"ANNEAL_RESUME_FROM": os.path.join(ckpts, "step-00000020")})
        self.assertEqual([0], resumed[0], resumed[2])
        got = losses(resumed[1])
        self.assertEqual(20, min(got), "the first step after the resume is the checkpoint's step")
        want = losses(self.whole[1])
        for step, loss in got.items():
            self.assertEqual(want[step], loss, f"step {step}")

    def test_an_uncommitted_checkpoint_is_refused(self):
        broken = os.path.join(self.dir, "broken")
        os.makedirs(broken)
        code, _, errs = ranks.run(
            ranks.spec(steps=10), self.tokens, os.path.join(self.dir, "refused"),
            extra_env={"ANNEAL_RESUME_FROM": broken})
        self.assertEqual([4], code)
        self.assertIn("not a committed checkpoint", errs[0])

    def test_an_lr_spike_multiplies_the_scheduled_rate_on_its_steps(self):
        spiked = ranks.run(
            ranks.spec(steps=12, inject={"spikeAtStep": 5, "spikeSteps": 3, "spikeLrMultiplier": 100}),
            self.tokens, os.path.join(self.dir, "spike"))
        lr = {m["step"]: m["lr"] for m in spiked[1] if "step" in m}
        plain = {m["step"]: m["lr"] for m in self.whole[1] if "step" in m}
        self.assertAlmostEqual(lr[4], plain_lr(4, 12), places=12)
        for s in (5, 6, 7):
            self.assertAlmostEqual(lr[s], 100 * plain_lr(s, 12), places=10)
        self.assertAlmostEqual(lr[8], plain_lr(8, 12), places=12)
        self.assertTrue(plain)

    def test_sigterm_commits_a_checkpoint_and_exits_preempted(self):
        work = os.path.join(self.dir, "term")
        os.makedirs(work)
        spec = os.path.join(work, "run-spec.json")
        with open(spec, "w") as f:
            json.dump(ranks.spec(steps=100000, every=100000), f)
        metrics = os.path.join(work, "metrics.jsonl")
        env = dict(os.environ, ANNEAL_RUN_SPEC=spec, ANNEAL_TOKENS=self.tokens, ANNEAL_METRICS_FILE=metrics,
                   ANNEAL_CHECKPOINT_DIR=os.path.join(work, "checkpoints"), ANNEAL_THREADS="1",
                   PYTHONPATH=ranks.ROOT)
        p = subprocess.Popen([sys.executable, "-m", "anneal_torch.train"], env=env, stderr=subprocess.PIPE)
        deadline = time.time() + 60
        while time.time() < deadline and not (os.path.exists(metrics) and os.path.getsize(metrics) > 0):
            time.sleep(0.05)
        p.send_signal(signal.SIGTERM)
        p.communicate(timeout=60)
        self.assertEqual(6, p.returncode)
        (ckpt,) = os.listdir(os.path.join(work, "checkpoints"))
        with open(os.path.join(work, "checkpoints", ckpt, "trainer-state.json")) as f:
            step = json.load(f)["step"]
        with open(metrics) as f:
            last = [json.loads(l) for l in f][-1]["step"]
        self.assertEqual(last + 1, step, "the checkpoint holds every step that reported")


def plain_lr(step, total):
    from anneal_torch.train import lr_at

    return lr_at(step, 1e-2, 0.05, total, 0.1)


if __name__ == "__main__":
    unittest.main()
