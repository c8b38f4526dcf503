"""The e-mail channel: IMAP polling, an SMTP listener, and real-world MIME into draft records.

Modules, each with one job: `charsets` (decode what senders mislabel), `mime` (bytes →
`ParsedMail`), `html_text`, `quotes` (quoted replies and sign-offs), `forwarded`, `machine`
(bounces, auto-replies, lists), `threads` (references and reply ids), `normalise` (a
`ParsedMail` → `ComplaintDraft`), `ack` (the acknowledgement mail), `imap`, `smtp`, and
`kinds` (the channel kinds `email`, `email.imap`, `email.smtp`).
"""
