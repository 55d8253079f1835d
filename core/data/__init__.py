"""The data path: dataset sources, templates, preparing and JSONL reading."""
