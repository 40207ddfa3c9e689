"""Invalid UTF-8 without a coding line: ÿþ bytes are replaced."""


def still_fine(s="é"):
    # comment with Ã a lone lead byte
    return s
