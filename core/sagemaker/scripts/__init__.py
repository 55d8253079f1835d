"""Scripts bedrock-tune ships to run inside SageMaker's containers (packed into
`sourcedir.tar.gz` by `core.sagemaker.source`). They import their heavy libraries (torch,
transformers, peft, trl) only when they run, so bedrock-tune imports and tests them without."""
