import threading
import time

import pytest

from colorizer.io.limits import LRUCache, PixelBudget


def test_lru_cache_keeps_the_most_recently_used():
    made = []
    cache = LRUCache(2)

    def make(key):
        return lambda: made.append(key) or key.upper()

    assert [cache.get(k, make(k)) for k in "abac"] == ["A", "B", "A", "C"]
    assert made == ["a", "b", "c"] and list(cache) == ["a", "c"]  # b was the least recent
    assert cache.get("b", make("b")) == "B" and made[-1] == "b" and len(cache) == 2
    with pytest.raises(ValueError):
        LRUCache(0)


def test_pixel_budget_queues_and_refuses():
    budget = PixelBudget(100, wait_s=5)
    with pytest.raises(ValueError, match="more than this server's budget of 100"):
        with budget.hold(101):
            pass
    order = []

    def second():
        with budget.hold(60):  # waits until the first request is done
            order.append(("second", budget.in_use))

    with budget.hold(60):
        thread = threading.Thread(target=second)
        thread.start()
        time.sleep(0.3)
        order.append(("first", budget.in_use))
    thread.join()
    assert order == [("first", 60), ("second", 60)] and budget.in_use == 0

    impatient = PixelBudget(100, wait_s=0.2)
    with impatient.hold(90):
        with pytest.raises(TimeoutError, match="busy"):
            with impatient.hold(20):
                pass
    assert impatient.in_use == 0
