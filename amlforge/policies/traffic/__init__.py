"""Rules of the traffic area: traffic, probes, requests and scaling."""
