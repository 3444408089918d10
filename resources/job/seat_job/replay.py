"""Abstention detection for replay (src/eval/abstention.ts, src/eval/text.ts): a reply abstains when
its normalized word tokens contain one of the phrase list's token sequences. Replies are decoded
with per-token texts the export computed with our tokenizer."""
import re
import unicodedata

_SPLIT = re.compile(r"[^\w]+|_+", re.UNICODE)


def normalize_tokens(text):
    """NFKC, lower case, split on anything that is not a letter, digit or mark."""
    t = unicodedata.normalize("NFKC", text).lower()
    return [w for w in _SPLIT.split(t) if w]


def make_detector(phrases):
    compiled = [(p, normalize_tokens(p)) for p in phrases]

    def match(reply):
        toks = normalize_tokens(reply)
        for p, needle in compiled:
            n = len(needle)
            if any(toks[i:i + n] == needle for i in range(len(toks) - n + 1)):
                return p
        return None
    return match


def decode(token_text, ids):
    return "".join(token_text[i] if 0 <= i < len(token_text) else "" for i in ids)
