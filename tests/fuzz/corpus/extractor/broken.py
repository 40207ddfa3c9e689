def f(:
  return (
class
	x = [1,
