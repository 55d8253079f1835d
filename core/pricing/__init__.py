"""Prices with their source and date: the AWS Price List API when it answers, the built-in
catalog figures otherwise, and "unknown, here is what to do" when neither has one.

* `types`: `Price` (an amount that always says where it comes from and when, or an explicit
  unknown with what to do), `ModelPrices` (one model in one region), `InstancePrices`.
* `pricelist`: the GetProducts client (endpoint regions, pagination, parsing the PriceList
  items, which are JSON documents in strings).
* `mapping`: which Price List items are which figure of which catalog model (the Price List names
  models by usage type and display name, never by model id).
* `builtin`: the catalog's figures as `ModelPrices` (source `built-in`, their dates).
* `cache`: a day-long cache of the Price List's answers in the state dir.
* `service`: `PriceService`, the one entry point: cache, then the API, then the built-in figures
  with one note saying why.
* `sagemaker`: SageMaker instance-hour rates (training, endpoints; spot as a saving).
* `imports`: custom model unit rates of imported models (active per minute, storage).
"""
