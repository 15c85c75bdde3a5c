"""The catalogue: halls and their seats, performers, performances (prices, cast, posters) and rounds."""
