import time, cProfile, pstats
from scripted import RecordingApp, Scripts
from feedview.config import PanelConfig

def scripted_panel(title):
    return PanelConfig("notifications", title, {"url": "http://127.0.0.1:9/events"})

async def test_probe():
    scripts = Scripts()
    app = RecordingApp([scripted_panel("front"), scripted_panel("back")], feeds=scripts)
    t0 = time.perf_counter()
    async with app.run_test(size=(120, 30)) as pilot:
        print("start", time.perf_counter() - t0, app.animation_level)
        for k in ["2", "right_square_bracket", "left_square_bracket", "g", "g", "2", "2"]:
            t = time.perf_counter(); c = time.process_time()
            await pilot.press(k)
            print(k, round(time.perf_counter() - t, 3), round(time.process_time() - c, 3))
        t = time.perf_counter()
        await pilot.pause()
        print("pause", round(time.perf_counter() - t, 3))
        t = time.perf_counter()
    print("exit", time.perf_counter() - t)
