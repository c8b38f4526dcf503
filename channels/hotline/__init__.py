"""The hotline channel (`hotline.twilio`): a Twilio voice number answered by an IVR,
and transcripts imported from other call-centre systems."""
