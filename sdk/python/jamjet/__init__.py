"""JamJet SDKs. jamjet.cloud names the end user behind each LLM API call for the JamJet agent."""
