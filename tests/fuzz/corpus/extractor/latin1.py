# -*- coding: latin-1 -*-
s = "été"
def g():
    pass
