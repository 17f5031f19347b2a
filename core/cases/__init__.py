"""Cases: meldingen (reports about public space) and vragen (questions), from every channel."""
