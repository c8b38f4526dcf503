"""The web form channel (`webform`): a complaint page in Chinese and English."""

from channels.webform import kind as kind  # registers the kind
