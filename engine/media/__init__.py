"""Evidence media: image decoding, video probing and frame sampling, faces. No Qt."""
