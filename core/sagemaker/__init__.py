"""SageMaker pieces the SageMaker routes share (`sagemaker-import`, `sagemaker-autopilot`,
`sagemaker-jumpstart`): the execution role's policy (`role`), training job requests
(`training`), the training job's status and log timeline (`watch`) and its failures explained
(`failures`), the QLoRA training script bedrock-tune ships (`scripts/train_qlora.py`, run inside
SageMaker's Hugging Face container, never imported with torch here), Autopilot (`autopilot`,
`autopilot_models`, `autopilot_data`), the SageMaker Public Hub (`hub`), JumpStart training jobs
(`jumpstart`), and starting a job once (`launching`). The sandbox's emulations are
`core/sandbox/training.py`, `training_faults.py`, `automl.py` and `hub.py`.

Nothing here imports boto3 at module level.
"""
