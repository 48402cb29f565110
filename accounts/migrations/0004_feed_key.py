from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0003_user_language_uk_de"),
    ]

    operations = [
        migrations.AddField(
            model_name="user",
            name="feed_key",
            field=models.CharField(blank=True, db_default="", default="", max_length=64, verbose_name="feed key"),
        ),
    ]
