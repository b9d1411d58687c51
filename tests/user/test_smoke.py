from tests.helpers import signed_in


async def test_me(api):
    user = await signed_in(api)
    response = await api.get("/api/v1/users/me", headers=user.headers)
    assert response.status_code == 200
    assert response.json()["username"] == user.username
