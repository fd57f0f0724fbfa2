"""The KRDS widgets write the markup Django's own widgets write, options in place."""

import re

from django import forms

from casework.forms import KrdsCheckboxes, KrdsForm, KrdsRadios

CHOICES = [("a", "가"), ("b", "나 & 다")]


def squeeze(html) -> str:
    return re.sub(r">\s+<", "><", str(html)).strip()


class Sample(KrdsForm):
    one = forms.ChoiceField(choices=CHOICES, initial="b")
    many = forms.MultipleChoiceField(
        choices=[("x", "엑스"), ("y", "와이")], initial=["y"], widget=KrdsCheckboxes
    )
    pick = forms.ChoiceField(choices=[("p", "피"), ("q", "큐")], initial="p", widget=KrdsRadios)


class Plain(forms.Form):
    one = forms.ChoiceField(
        choices=CHOICES, initial="b", widget=forms.Select(attrs={"class": "krds-form-select"})
    )


def test_select_is_djangos_markup():
    assert squeeze(Sample()["one"]) == squeeze(Plain()["one"])
    assert '<option value="b" selected>나 &amp; 다</option>' in str(Sample()["one"])


def test_choices_in_krds_check_markup():
    assert squeeze(Sample()["many"]) == (
        '<div class="ieum-choices" id="id_many">'
        '<div class="krds-form-check"><input type="checkbox" name="many" value="x" id="id_many_0">'
        '<label for="id_many_0">엑스</label></div>'
        '<div class="krds-form-check"><input type="checkbox" name="many" value="y" id="id_many_1" '
        'checked><label for="id_many_1">와이</label></div></div>'
    )
    radios = squeeze(Sample()["pick"])
    assert '<input type="radio" name="pick" value="p" required id="id_pick_0" checked>' in radios
    assert '<label for="id_pick_1">큐</label>' in radios
