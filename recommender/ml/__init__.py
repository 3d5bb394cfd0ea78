"""The student: a small sequential recommender trained on CPU from event sequences, frozen product-text embeddings
and (optionally) LLM-teacher judgments. Plain Python/torch: nothing here imports Django.

    from recommender.ml import Student, StudentConfig, StudentRanker, TeacherLabel, train_student
"""

from recommender.ml.data import TeacherLabel
from recommender.ml.model import StudentConfig, StudentModel
from recommender.ml.ranker import StudentRanker
from recommender.ml.student import Student
from recommender.ml.train import TrainResult, train_student

__all__ = ["Student", "StudentConfig", "StudentModel", "StudentRanker", "TeacherLabel", "TrainResult", "train_student"]
