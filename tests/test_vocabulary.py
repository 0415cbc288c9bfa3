"""One vocabulary: every status, channel and role label comes from layers.vocabulary via translate()."""

import pytest

from dialogkarta.layers import accounts, activities, proposals, vocabulary, workflow
from dialogkarta.layers.vocabulary import translate


@pytest.mark.parametrize(
    "value, lang, expected",
    [
        ({"sv": "Mottaget", "en": "Received"}, "en", "Received"),
        ({"sv": "Mottaget", "en": "Received"}, "de", "Received"),  # an unknown language falls back to English
        ({"sv": "Mottaget", "en": ""}, "en", "Mottaget"),  # so does an empty translation
        ({"en": "Only English", "color": "#fff"}, "sv", "fallback"),  # never a colour or another field
        ("Dalby", "en", "Dalby"),  # plain text has one language
        (None, "sv", "fallback"),
    ],
)
def test_translate_resolves_a_labels_mapping_with_one_fallback(value, lang, expected):
    assert translate(value, lang, default="fallback") == expected


def test_the_workflow_values_are_the_vocabulary_keys_in_order():
    assert tuple(vocabulary.PROPOSAL_STATUSES) == workflow.STATUSES
    assert tuple(vocabulary.CHANNELS) == proposals.CHANNELS
    assert (tuple(vocabulary.ACTIVITY_KINDS), tuple(vocabulary.ACTIVITY_STATUSES)) == (activities.KINDS, activities.STATUSES)
    assert set(accounts.ROLES) <= set(vocabulary.ROLES)


@pytest.mark.parametrize(
    "vocab",
    [
        vocabulary.PROPOSAL_STATUSES,
        vocabulary.CHANNELS,
        vocabulary.ROLES,
        vocabulary.ACTIVITY_KINDS,
        vocabulary.ACTIVITY_STATUSES,
    ],
)
def test_every_label_exists_in_swedish_and_english(vocab):
    assert all(labels.get("sv") and labels.get("en") for labels in vocab.values())


def test_the_public_permalink_and_the_qgis_style_use_the_same_status_words(client):
    from dialogkarta.layers.styles import proposals_style
    from dialogkarta.webmap import db

    with client.application.app_context():
        style = proposals_style(db.registry().locality, "sv")
    assert all(labels["sv"] in style.qml for labels in vocabulary.PROPOSAL_STATUSES.values())
    assert "Vidarebefordrat" not in style.qml  # the old second word for "forwarded"
