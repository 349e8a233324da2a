"""Safetensors and token sets: round trips, and clear errors for what is broken."""

import json
import os
import shutil
import struct
import tempfile
import unittest

import torch

from anneal_torch import data, safetensors
from tests import corpus


class SafetensorsTest(unittest.TestCase):
    def test_round_trip_keeps_names_order_dtypes_and_metadata(self):
        t = {"b": torch.randn(3, 4), "a": torch.arange(5, dtype=torch.int64), "e": torch.zeros(0)}
        back, meta = safetensors.read(safetensors.write(t, {"format": "pt"}))
        self.assertEqual(["b", "a", "e"], list(back))
        self.assertEqual({"format": "pt"}, meta)
        for k in t:
            self.assertTrue(torch.equal(t[k], back[k]), k)

    def test_header_is_padded_to_eight_bytes_like_the_java_writer(self):
        raw = safetensors.write({"x": torch.ones(2)})
        (n,) = struct.unpack("<Q", raw[:8])
        self.assertEqual(0, n % 8)
        self.assertEqual(8 + n + 8, len(raw))

    def test_broken_files_say_what_is_wrong(self):
        with self.assertRaisesRegex(safetensors.SafetensorsError, "not a safetensors file"):
            safetensors.read(b"abc", "w.safetensors")
        with self.assertRaisesRegex(safetensors.SafetensorsError, "does not fit"):
            safetensors.read(struct.pack("<Q", 999) + b"{}", "w.safetensors")
        good = safetensors.write({"x": torch.ones(4)})
        with self.assertRaisesRegex(safetensors.SafetensorsError, r"x has 16 bytes .* in the file"):
            safetensors.read(good[:-4], "w.safetensors")


class TokensTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="anneal-tokens-")
        self.addCleanup(shutil.rmtree, self.dir, ignore_errors=True)

    def test_batches_are_a_pure_function_of_seed_and_index_and_ranks_slice_them(self):
        corpus.write(self.dir)
        tokens = data.Tokens(self.dir)
        x1, y1 = data.batch(tokens, 5, 17, 8, 32)
        x2, _ = data.batch(tokens, 5, 17, 8, 32)
        self.assertTrue(torch.equal(x1, x2))
        self.assertTrue(torch.equal(x1[:, 1:], y1[:, :-1]))
        self.assertFalse(torch.equal(x1, data.batch(tokens, 5, 18, 8, 32)[0]))
        halves = [data.batch(tokens, 5, 17, 8, 32, r * 4, r * 4 + 4)[0] for r in range(2)]
        self.assertTrue(torch.equal(x1, torch.cat(halves)))

    def test_windows_cross_shard_boundaries(self):
        data.write_tokens(self.dir, [[1, 2, 3], [4, 5]], vocab_size=10, eos=0, shard_tokens=2)
        tokens = data.Tokens(self.dir)
        self.assertEqual(4, len(tokens.parts))
        self.assertEqual([1, 2, 3, 0, 4, 5, 0], list(tokens.window(0, 7)))

    def test_skip_windows_move_the_data_index_as_the_builtin_engine_does(self):
        w = [{"fromBatch": 300, "toBatch": 500}]
        self.assertEqual(299, data.data_batch_index(299, w))
        self.assertEqual(500, data.data_batch_index(300, w))
        self.assertEqual(510, data.data_batch_index(310, w))
        # overlapping windows count their union once
        w2 = w + [{"fromBatch": 450, "toBatch": 600}]
        self.assertEqual(600, data.data_batch_index(300, w2))

    def test_a_missing_manifest_or_a_changed_shard_is_refused(self):
        with self.assertRaisesRegex(data.DataError, "no manifest.json"):
            data.Tokens(self.dir)
        corpus.write(self.dir)
        shard = os.path.join(self.dir, "tokens-00000.bin")
        with open(shard, "r+b") as f:
            f.write(b"\xff\xff")
        with self.assertRaisesRegex(data.DataError, "sha256 differs"):
            data.Tokens(self.dir)

    def test_a_manifest_of_another_format_is_refused(self):
        with open(os.path.join(self.dir, "manifest.json"), "w") as f:
            json.dump({"format": "megatron"}, f)
        with self.assertRaisesRegex(data.DataError, "format must be anneal-tokens/v1"):
            data.Tokens(self.dir)


    def example_set(self, examples, masks, pad=9):
        """An example set as the Java writer lays it out (TokenShards.writeExamples)."""
        import numpy as np

        ids = np.asarray([t for e in examples for t in e], dtype=np.uint16)
        mask = np.asarray([m for e in masks for m in e], dtype=np.uint8)
        starts = np.cumsum([0] + [len(e) for e in examples]).astype("<i8")
        ids.tofile(os.path.join(self.dir, "tokens-00000.bin"))
        mask.tofile(os.path.join(self.dir, "masks-00000.bin"))
        starts.tofile(os.path.join(self.dir, "examples.bin"))
        shard = lambda f, n: {"file": f, "tokens": n, "sha256": data.sha256(os.path.join(self.dir, f))}
        m = {"format": data.FORMAT, "dtype": "uint16", "vocabSize": 16, "eos": 0, "pad": pad,
             "shards": [shard("tokens-00000.bin", len(ids))], "masks": [shard("masks-00000.bin", len(mask))],
             "examples": {"file": "examples.bin", "count": len(examples),
                          "sha256": data.sha256(os.path.join(self.dir, "examples.bin"))}}
        with open(os.path.join(self.dir, "manifest.json"), "w") as f:
            json.dump(m, f)
        return data.Tokens(self.dir)

    def test_sft_rows_are_whole_examples_learning_only_their_masked_targets(self):
        examples = [[1, 2, 3, 4], [5, 6, 7, 8, 10, 11]]
        masks = [[0, 0, 1, 1], [0, 1, 0, 1, 1, 1]]
        tokens = self.example_set(examples, masks)
        x, y, w = data.sft_batch(tokens, 3, 7, 6, 4)
        for r in range(6):
            row = [int(t) for t in torch.cat([x[r, :1], y[r]])]
            e = 0 if row[:4] == [1, 2, 3, 4] else 1
            n = min(len(examples[e]), 5)
            self.assertEqual(examples[e][:n] + [9] * (5 - n), row)
            # target i is token i + 1, learned where its mask is 1; padding never is
            self.assertEqual([float(m) for m in masks[e][1:n]] + [0.0] * (4 - (n - 1)), w[r].tolist())
        again = data.sft_batch(tokens, 3, 7, 6, 4)
        self.assertTrue(torch.equal(x, again[0]) and torch.equal(w, again[2]))
        halves = [data.sft_batch(tokens, 3, 7, 6, 4, r * 3, r * 3 + 3)[2] for r in range(2)]
        self.assertTrue(torch.equal(w, torch.cat(halves)))

    def test_an_example_set_with_a_changed_mask_is_refused(self):
        self.example_set([[1, 2, 3]], [[0, 1, 1]])
        with open(os.path.join(self.dir, "masks-00000.bin"), "r+b") as f:
            f.write(b"\x01")
        with self.assertRaisesRegex(data.DataError, "sha256 differs"):
            data.Tokens(self.dir)
        with self.assertRaisesRegex(data.DataError, "an sft stage reads an example set"):
            corpus.write(self.dir)
            data.sft_batch(data.Tokens(self.dir), 1, 0, 2, 4)


if __name__ == "__main__":
    unittest.main()
