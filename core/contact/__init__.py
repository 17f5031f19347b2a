"""The front office: finding a person, the 360° view and contact moments on every channel."""
