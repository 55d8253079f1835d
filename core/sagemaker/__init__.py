"""SageMaker pieces the SageMaker routes share (`sagemaker-import` now; Autopilot and JumpStart
next): the execution role's policy (`role`), training job requests (`training`), the training
job's status and log timeline (`watch`), and the QLoRA training script bedrock-tune ships
(`scripts/train_qlora.py`, run inside SageMaker's Hugging Face container, never imported with
torch here). The sandbox's emulation of SageMaker training jobs is `core/sandbox/training.py`.

Nothing here imports boto3 at module level.
"""
