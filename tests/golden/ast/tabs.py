class Tabs:
	"""Indented with tabs."""
	def method(self):
		def inner():
			return 1
		return inner


VALUE	=	1
