"""Custom Model Import: bring a model tuned anywhere into Bedrock.

- `architectures`: what Custom Model Import takes (architectures, files, dtypes, limits, regions,
  which API each answers, prices), as data with its sources and dates.
- `source`: where the weights are (a local folder, an `s3://` prefix, `hf:org/name`), read
  through one small interface; Hugging Face downloads go through an injectable hub.
- `safetensors`: reading a `.safetensors` header (tensor names, dtypes, shapes) without torch.
- `check`: the pre-import check, reported like the dataset validator (rule, file, message, fix).
- `jobs`: CreateModelImportJob (with a client token), GetModelImportJob, GetImportedModel, the
  lists, DeleteImportedModel, and the poller that watches an import to its end.
- `launching`: an import launched from a run, once, whatever crashes.

Nothing here imports boto3 or huggingface_hub at module level.
"""
