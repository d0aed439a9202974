"""Repository tools that are not part of the service: generators of the documents derived from its code."""
