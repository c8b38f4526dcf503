"""Social DM channels: WhatsApp (Twilio), Messenger / Instagram, WeChat Official Account,
Telegram. A person's burst of chat messages becomes one complaint (see `conversation`)."""
