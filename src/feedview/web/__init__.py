"""`feedview serve`: the dashboard in a browser tab, one app process per tab.

server.py is the web server (aiohttp: the page, its token, the websocket each tab talks
over); session.py runs and ends one tab's app process; child.py is that process (the
dashboard with driver.py's web driver). The page's script is textual-serve's (xterm.js).
"""
