"""`hf/` directories (Hugging Face layout: `config.json`, `model.safetensors`, `tokenizer.json`)
in and out of the reference engine, and a command line for the cross-engine checks:

  python3 -m anneal_torch.hf logits DIR IDS OUT   logits of the token ids (JSON list of lists) as
                                                  a safetensors file with one tensor, `logits`
  python3 -m anneal_torch.hf init OUT MODEL SEED  a freshly initialised model (MODEL: the RunSpec's
                                                  model section as JSON) written as an hf/ dir"""

import json
import os
import sys

import torch

from . import model, safetensors


def load(directory):
    """The model of an hf/ directory; errors name the file."""
    cfg = os.path.join(directory, "config.json")
    if not os.path.exists(cfg):
        raise FileNotFoundError(f"{directory}: has no config.json")
    with open(cfg) as f:
        shape = model.Shape.from_config(json.load(f), cfg)
    net = model.Llama(shape)
    weights, _ = safetensors.load(os.path.join(directory, "model.safetensors"))
    net.load_hf_state(weights, f"{directory}/model.safetensors")
    return net


def save(directory, net):
    os.makedirs(directory, exist_ok=True)
    safetensors.save(os.path.join(directory, "model.safetensors"), dict(sorted(net.hf_state().items())), {"format": "pt"})
    with open(os.path.join(directory, "config.json"), "w") as f:
        json.dump(net.shape.config(), f, indent=2)


def main(argv):
    if len(argv) == 4 and argv[0] == "logits":
        net = load(argv[1]).eval()
        with open(argv[2]) as f:
            ids = torch.tensor(json.load(f), dtype=torch.int64)
        with torch.no_grad():
            logits = net(ids)
        safetensors.save(argv[3], {"logits": logits})
        return 0
    if len(argv) == 4 and argv[0] == "init":
        net = model.Llama(model.Shape.of(json.loads(argv[2])))
        model.init_weights(net, int(argv[3]))
        save(argv[1], net)
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
