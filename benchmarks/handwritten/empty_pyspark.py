"""A PySpark session started and stopped: the fixed cost every Spark program pays."""

from pyspark.sql import SparkSession

spark = SparkSession.builder.master("local[*]").appName("empty").getOrCreate()
spark.sparkContext.parallelize(range(2), 2).count()
spark.stop()
