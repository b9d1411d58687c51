"""The signed-in user: profile, password change, sessions."""

from __future__ import annotations

from tests.helpers import bearer, login, signed_in

ME = "/api/v1/users/me"


async def test_update_me_changes_only_given_fields(api):
    user = await signed_in(api)
    response = await api.patch(
        ME, json={"display_name": "Alice 爱丽丝", "locale": "zh-CN"}, headers=user.headers
    )
    assert response.status_code == 200
    body = response.json()
    assert body["display_name"] == "Alice 爱丽丝"
    assert body["locale"] == "zh-CN"
    assert body["phone"] is None
    again = await api.patch(ME, json={"phone": "+86 138 0013 8000"}, headers=user.headers)
    assert again.json()["display_name"] == "Alice 爱丽丝"
    assert again.json()["phone"] == "+86 138 0013 8000"
    fetched = await api.get(ME, headers=user.headers)
    assert fetched.json() == again.json()


async def test_update_me_rejects_bad_values_and_changes_nothing(api):
    user = await signed_in(api)
    for body in (
        {"locale": None},
        {"locale": "not a locale"},
        {"display_name": ""},
        {"display_name": "x" * 65},
        {"phone": "12"},
        {"username": "renamed"},
        {"display_name": 42},
    ):
        response = await api.patch(ME, json=body, headers=user.headers)
        assert response.status_code == 422, body
    me = (await api.get(ME, headers=user.headers)).json()
    assert me["locale"] == "en"
    assert me["display_name"] is None
    assert me["username"] == user.username


async def test_change_password_signs_out_other_sessions(api):
    user = await signed_in(api)
    other = await login(api, user.username)
    response = await api.post(
        "/api/v1/users/me/password",
        json={"current_password": user.password, "new_password": "Another-Long-Secret-9"},
        headers=user.headers,
    )
    assert response.status_code == 204
    assert (await api.get(ME, headers=user.headers)).status_code == 200
    assert (await api.get(ME, headers=bearer(other["access_token"]))).status_code == 401
    stale = await api.post("/api/v1/auth/refresh", json={"refresh_token": other["refresh_token"]})
    assert stale.status_code == 401
    old = await api.post(
        "/api/v1/auth/login", json={"username": user.username, "password": user.password}
    )
    assert old.status_code == 401
    await login(api, user.username, "Another-Long-Secret-9")


async def test_change_password_checks_current_and_policy(api):
    user = await signed_in(api)
    wrong = await api.post(
        "/api/v1/users/me/password",
        json={"current_password": "not-my-password", "new_password": "Another-Long-Secret-9"},
        headers=user.headers,
    )
    assert wrong.status_code == 422
    assert wrong.json()["code"] == "user.wrong_password"
    for weak in ("password1", "short", user.username):
        response = await api.post(
            "/api/v1/users/me/password",
            json={"current_password": user.password, "new_password": weak},
            headers=user.headers,
        )
        assert response.status_code == 422, weak
    same = await api.post(
        "/api/v1/users/me/password",
        json={"current_password": user.password, "new_password": user.password},
        headers=user.headers,
    )
    assert same.status_code == 422
    await login(api, user.username, user.password)


async def test_sessions_list_marks_current_and_can_sign_out_a_device(api):
    user = await signed_in(api, **{"User-Agent": "laptop"})
    phone = await login(api, user.username, **{"User-Agent": "phone"})
    sessions = (await api.get("/api/v1/users/me/sessions", headers=user.headers)).json()
    assert len(sessions) == 2
    current = [s for s in sessions if s["current"]]
    assert len(current) == 1
    assert current[0]["user_agent"] == "laptop"
    assert current[0]["ip"] == "127.0.0.1"
    phone_session = next(s for s in sessions if s["user_agent"] == "phone")

    response = await api.delete(
        f"/api/v1/users/me/sessions/{phone_session['id']}", headers=user.headers
    )
    assert response.status_code == 204
    assert (await api.get(ME, headers=bearer(phone["access_token"]))).status_code == 401
    refresh = await api.post("/api/v1/auth/refresh", json={"refresh_token": phone["refresh_token"]})
    assert refresh.status_code == 401
    remaining = (await api.get("/api/v1/users/me/sessions", headers=user.headers)).json()
    assert [s["user_agent"] for s in remaining] == ["laptop"]


async def test_cannot_sign_out_another_users_session(api):
    me = await signed_in(api)
    other = await signed_in(api)
    theirs = (await api.get("/api/v1/users/me/sessions", headers=other.headers)).json()[0]
    response = await api.delete(f"/api/v1/users/me/sessions/{theirs['id']}", headers=me.headers)
    assert response.status_code == 404
    assert (await api.get(ME, headers=other.headers)).status_code == 200
