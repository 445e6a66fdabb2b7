"""Real-browser tests: apps served on 127.0.0.1 from the test process, driven in headless Chromium."""
