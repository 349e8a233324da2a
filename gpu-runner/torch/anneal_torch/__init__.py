"""Anneal's reference distributed engine: a LLaMA decoder on PyTorch distributed (DDP), with the
same architecture and Hugging Face tensor names as the built-in Java engine, so checkpoints and
`hf/` exports move between the two engines."""
