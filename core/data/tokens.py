"""Token estimates without a tokenizer.

Bedrock offers no token counter for the models we customize (CountTokens covers Claude 3.5 and
newer only; reference/bedrock.md section 6.5), so limits are checked with an estimate:

* Latin-script text and code: characters / `chars_per_token` of the model. AWS documents its
  record limits with about 6 characters per token; the Claude sample validator uses a
  conservative 3. The catalog holds the ratio of each model (`Limits.chars_per_token`).
* CJK ideographs, kana and hangul: about one token per character. Those scripts pack about one
  word into a character, and BPE tokenizers spend one token (often more) on each, so dividing
  them by 6 would undercount by up to 6x and let over-long records through.

The estimate errs on the side of caution: the validator warns when a record is within 10% of a
limit, because an estimate is not a count.
"""

from __future__ import annotations

import re

# Han (CJK unified + extension A + compatibility), Hiragana, Katakana, Hangul syllables/jamo,
# CJK symbols and full-width forms.
_WIDE = re.compile(
    "[\u1100-\u11ff\u3000-\u303f\u3040-\u309f\u30a0-\u30ff\u3130-\u318f"
    "\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef]"
)

ESTIMATE_METHOD = (
    "characters / the model's chars-per-token ratio (AWS plans with 6; the Claude validator "
    "uses 3), plus one token per CJK, kana or hangul character"
)


def count_wide(text: str) -> int:
    """How many characters of `text` count as one token each (CJK, kana, hangul)."""
    if text.isascii():
        return 0
    return len(_WIDE.findall(text))


def estimate_tokens(text: str, chars_per_token: float = 6.0) -> int:
    """Estimate the tokens of `text` for a model that plans with `chars_per_token`.

    Args:
        text: the text as the model receives it.
        chars_per_token: the model's planning ratio (from its catalog `Limits`).

    Returns:
        A whole number of tokens, at least 1 for non-empty text.
    """
    if not text:
        return 0
    wide = count_wide(text)
    narrow = len(text) - wide
    estimate = wide + narrow / chars_per_token
    return max(1, int(estimate + 0.999999))
