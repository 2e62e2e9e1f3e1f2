"""Enumerations of the worker profile, as stored keys with translatable labels."""
from ..i18n import lazy_gettext as _l

ROLES = {
    "learner": _l("Community worker"),
    "trainer": _l("Trainer"),
    "office": _l("Training office"),
    "admin": _l("Administrator"),
}
GENDERS = {"female": _l("Female"), "male": _l("Male")}
EDUCATION = {
    "junior_high": _l("Junior high school or below"),
    "senior_high": _l("Senior high school"),
    "secondary_vocational": _l("Secondary vocational school"),
    "junior_college": _l("Junior college"),
    "bachelor": _l("Bachelor's degree"),
    "postgraduate": _l("Postgraduate"),
}
POLITICAL_STATUS = {
    "cpc_member": _l("CPC member"),
    "cpc_probationary": _l("CPC probationary member"),
    "cyl_member": _l("Communist Youth League member"),
    "democratic_party": _l("Member of a democratic party"),
    "masses": _l("Ordinary citizen"),
}
CERT_LEVELS = {
    "none": _l("None"),
    "assistant": _l("Assistant social worker"),
    "intermediate": _l("Social worker"),
    "senior": _l("Senior social worker"),
}


def label(choices: dict, key: str | None) -> str:
    return str(choices.get(key, key or ""))
