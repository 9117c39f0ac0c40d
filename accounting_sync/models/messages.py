"""Provider messages in the user's language. The providers say what went wrong as a code and
its parameters (providers/messages.py: each code's English sentence, marked for this addon's
translation catalogue); here that sentence is translated with the same parameters, the nouns
among them too. A code the catalogue does not know is shown in the provider layer's words."""
from ..providers.messages import MESSAGES, NOUNS, OWN_CODES

# The parameters that hold one of the catalogue's nouns (translated one by one).
NOUN_PARAMS = ("noun", "thing", "holder")


def translated_message(env, error):
    """``error`` (a provider error) as a sentence in ``env``'s language, with the
    provider's own code where it gave one (what support asks for)."""
    if error is None:
        return False
    code = getattr(error, "code", None)
    template = MESSAGES.get(code)
    if template is None:
        return str(error)
    params = dict(getattr(error, "params", None) or {})
    for name in NOUN_PARAMS:
        if params.get(name) in NOUNS:
            params[name] = env._(params[name])  # pylint: disable=translation-not-lazy
    try:
        text = env._(template, **params)  # pylint: disable=translation-not-lazy
    except (KeyError, TypeError, ValueError):
        return str(error)  # the parameters do not fit: the provider layer's own words
    provider_code = getattr(error, "provider_code", None)
    if provider_code and provider_code != code and provider_code not in OWN_CODES:
        text = env._("%(message)s (code %(code)s)", message=text, code=provider_code)
    return text

