"""Finding and deleting what bedrock-tune made, billable first."""
