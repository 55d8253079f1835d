"""The registry kinds of what bedrock-tune makes on SageMaker (`ResourceRecord.kind`), shared by
the code that creates them, billing and teardown. Their identifier is the resource's name (the
name every SageMaker call takes; an endpoint ARN spells the name in lower case)."""

ENDPOINT = "sagemaker-endpoint"
"""A real-time endpoint: billed per instance-hour while it exists."""
ENDPOINT_CONFIG = "sagemaker-endpoint-config"
"""An endpoint config (free)."""
MODEL = "sagemaker-model"
"""A SageMaker model: the container and model data an endpoint serves (free)."""
TRAINING_JOB = "sagemaker-training-job"
"""A SageMaker training job (a JumpStart or QLoRA job): billed per instance-hour while it runs."""
AUTOML_JOB = "sagemaker-automl-job"
"""An Autopilot (AutoML v2) job: billed for the training it runs."""
